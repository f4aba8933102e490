from __future__ import annotations

from calctl.cli import main

if __name__ == "__main__":
    main()
