"""What drives the use case: the command line (``cli``) and the g4f provider (``g4f``).

They parse, call the use case built by the container, and format; they reach the concrete
adapters only through the container.
"""
