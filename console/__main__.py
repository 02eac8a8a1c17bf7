"""`python -m console [streamlit options]`: serve the console (app.py) with page links that work on first load.

Streamlit treats an app whose folder holds `pages/` as an old-style multipage app until app.py's st.navigation
has run once; until then a first visit to a deep link (/history?run=ID, /decode) runs that page's file alone.
Declaring the app navigation-only before the server starts makes every link open through app.py.
"""

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

APP = Path(__file__).resolve().parent.parent / "app.py"


def main() -> None:
    PagesManager.uses_pages_directory = False  # pages are declared by st.navigation in app.py, not by the folder
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
