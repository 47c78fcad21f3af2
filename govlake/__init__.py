"""govlake: a data federation and governance lakehouse for a city's video network.

Importing the package sets the process umask to 077 (`govlake.core.private`): whatever govlake or a
service it starts writes on the host (warehouse, store, logs, landing archives, temp files) is
private to the service account.
"""
from govlake.core.private import harden_process as _harden_process

_harden_process()
