from zenpolicy.cli import main

main()
