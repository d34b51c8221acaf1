"""`python -m ui`: the chat on its own, over the real answering service."""

from ui.app import main

main()
