"""Self-healing: ``guard once --heal`` takes each unhealthy check through report →
diagnosis → patch → verification → keep or roll back → learn.

- ``pipeline.heal``: the seam the guard calls (one outcome per finding);
- ``verification``: what a heal's patch must pass (the check again, ``migrate
  verify --order filename``, the verify commands), run inside the patch engine's
  verifying phase;
- ``records``: heal runs, the hourly budget and learned fixes in the audit store;
- ``locks``: one healer per project (file lock; advisory lock on a PostgreSQL store);
- ``recovery``: patches a killed healer left in flight, restored before anything else.
"""
