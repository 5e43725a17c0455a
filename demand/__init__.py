"""Demand mining: citizens' refused questions and imported hotline messages grouped into topics that editors
close with a guide or FAQ.

It sits between the user interfaces and the assistant, and reads the assistant only through its public
API (`from assistant import DemandLog`), so the assistant can change inside without breaking it.
"""
