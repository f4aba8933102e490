from __future__ import annotations

from calctl.entry import main

if __name__ == "__main__":
    main()
