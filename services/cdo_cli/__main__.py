from cdo_cli import main

main()
