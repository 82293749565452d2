from __future__ import annotations

from amtflow.cli import main

if __name__ == "__main__":
    main()
