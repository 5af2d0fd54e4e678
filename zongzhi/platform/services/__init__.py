"""Services: plain async functions over the models, the one place where data changes.

GraphQL mutations, partner webhooks and rule actions all call these, so the state machine,
authorization and audit hold whichever way a change comes in.
"""
