"""警调对接: police stations push dispute-type 110 incidents to the centers and get the result back.

Registered as the ``police_docking`` entry point in the project's own ``pyproject.toml``, exactly as a
partner's package would register its plugin.

How an incident is placed (``webhooks.locate``): coordinates are matched point-in-polygon against the
grids' GeoJSON polygons (shapely); failing that the payload's grid code, then its 12-digit area code;
failing all three the police station's own center, which is the credential's center (one credential
per station, registered with the township it serves). The case is taken in at the center the
location names, with its grid, and the rule ``police-route-to-township`` (action
``route_to_township``) hands it to the township center above that place.

The station is a ``Department`` (code in ``police_station.code``, which must be registered): joint
handling (联办) is the rule action ``police_joint_handling`` (the township center leads, the station
joins), and the rule action ``notify_station`` sends the station a signed ``risk_alert``.
"""
