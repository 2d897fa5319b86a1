"""Small workflows that ship with swiftgraph, importable by the CLI and the tests.

``swiftgraph.examples.hiring`` is the lesson's hiring pipeline (sequential, Graph API,
Functional API); ``swiftgraph demo`` runs it end to end, and
``swiftgraph run swiftgraph.examples.hiring:graph --input '{"name": "Bob"}'`` runs
the Graph API version alone.
"""
