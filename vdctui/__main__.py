from vdctui.cli.main import main

main()
