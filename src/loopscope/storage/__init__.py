# storage - the profile file (.lsp): one SQLite database per recording, written as windows close.
"""The profile file: loopscope's native format, one SQLite database (WAL) per recording.

    from loopscope.storage import Profile, ProfileError, ProfileWriter, timespec

ProfileWriter (writer.py) creates a file and appends the recorder's interned items and closed
windows, one committed transaction per window, so a killed profiler loses nothing that was closed.
Profile (reader.py) opens a file read-only, also while it is written, and adds up time ranges into
the dict that loopscope._engine.export() takes. schema.py has the tables and the version stamp;
timespec.py reads the --from/--to times of the command line.
"""

from loopscope.storage import timespec
from loopscope.storage.reader import Profile
from loopscope.storage.schema import SCHEMA_VERSION, ProfileError
from loopscope.storage.writer import ProfileWriter

__all__ = ["Profile", "ProfileError", "ProfileWriter", "SCHEMA_VERSION", "timespec"]
