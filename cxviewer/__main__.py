from cxviewer.cli import main

raise SystemExit(main())
