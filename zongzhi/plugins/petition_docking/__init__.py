"""访调对接: petition offices (信访部门) transfer claim-type petition items to the centers for mediation.

Registered as the ``petition_docking`` entry point in the project's own ``pyproject.toml``, exactly as
a partner's package would register its plugin.

Decisions:

- **Refusal.** Only 申诉求决类 items (``item_type: claim``) are taken for mediation. Any other item
  is *received and refused*: the case is registered and at once rejected with the reason, in one
  transaction (partner intake's ``refusal``), and the ``case.rejected`` event
  goes back to the office as a signed ``refused`` delivery. The webhook answers 201 (200 on a
  repeat) with ``"refused": true`` and the reason, so the office has the item on record, the refusal
  is on the timeline and counted in the figures, and a repeat gets the same answer.
- **Placement.** The case is taken in at the center whose area code is the office's jurisdiction
  (``office.area_code``), i.e. the center at the same level as the office; if no center has that
  code, at the credential's center.
- **Deadlines** (rule ``petition-statutory-deadlines``): the acceptance notice within 15 days
  (``respond_by``) and handling within 60 days (``resolve_by``), calendar days counted from the
  center's receipt. ``extendPetitionDeadline`` extends handling once by 30 days, with a reason.
- **Outbound**: ``accepted`` (受理告知), ``refused``, ``extended``, ``result`` (resolved or failed) and
  ``satisfaction`` (the petitioner's rating from the follow-up, ``case.followed_up``).
"""
