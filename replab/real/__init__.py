"""Labs on real database servers, run from temporary directories on 127.0.0.1 only.

``replab.real.postgres`` drives a PostgreSQL primary with hot standbys, ``replab.real.mariadb``
MariaDB servers with binlog replication. Each lab starts its own servers, tracks every PID
it starts and stops them by PID on exit, error or Ctrl-C; it never touches a system cluster.
Both record histories in replab's format, so ``replab check`` judges them.
"""
