"""The estate bench/generate.py writes: its model, and the builders of each kind of
resource, one module per group of kinds. bench/generate.py runs the builders in order,
on one Estate and one random generator, and writes the YAML.

    base          constants, name helpers, Cron, Schedule, Run, Release, Account, Estate
    people        people, roles, password policies, systems, accounts
    applications  applications, environments, releases (planned, then written)
    backups       servers, backup schedules and runs, restore tests, websites
    devices       workstations, mobile devices
    governance    incidents, breaches, maintenance, subprocessors, attestations,
                  documents, access reviews, erasure requests, penetration tests, SLAs

Each module imports only from base and the modules above it in this list (backups uses
applications' _production): no cycle.
"""
