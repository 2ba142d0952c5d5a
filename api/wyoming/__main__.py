import sys

from api.wyoming.server import main

sys.exit(main())
