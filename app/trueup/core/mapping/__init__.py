"""Which Halo client bills a Pax8 company and which Halo item a Pax8 product: what the engine reads,
the candidates and suggestions, the rows the screens show, the journal every change is written
to, the mappings file, the mappings in force (index.py) that the diff, batch and posting read.
qbo/ does the same between Halo and QuickBooks Online.
"""
