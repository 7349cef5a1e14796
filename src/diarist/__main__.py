from diarist.cli import main

main()
