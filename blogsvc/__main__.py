from blogsvc.cli import main

raise SystemExit(main())
