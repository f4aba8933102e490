"""Diagnosers and publishers of bug reports: memory, rules, openai, github, coderabbit.

Each provider is one module implementing :class:`calctl.providers.base.Provider`
(diagnosers) or :class:`calctl.providers.base.Publisher` (publishers); the report
command tries diagnosers in the configured order and stops at the first patch that
validates.
"""
