from vsdstats.cli import main

main()
