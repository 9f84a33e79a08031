from feedsvc.cli.commands import main

main()
