"""The inspector's snapshot: one signed file with the scan, the journal excerpt and the config.

Format (a plain POSIX tar, so that ``tar tvf`` shows it on any machine)::

    manifest.json        canonical JSON: host (name, machine id), key, tool, policy, time, the journal
                         excerpt's range and the journal head it witnesses, member hashes
    manifest.sig         raw 64-byte Ed25519 signature of manifest.json by the host key
    host.pub             the host public key (PEM); pin it with --pubkey
    cosign.json          optional: an inspector's co-signature (name, fingerprint, validity, signature)
    scan.json scan.html  the scan document and the printable record
    journal.ndjson       journal records since the previous snapshot, one JSON object per line
    journal-verify.json  the full journal's verification on the host at export time
    rotations.json       the host's key rotation statements, each signed by the key it retired
    devices.yaml         the approved-device registry
    tailoring/*.yaml     local tailoring in force

Format versions: 1 (until 2026-12) had no explicit head and left the machine id out of ``--no-scan``
snapshots; 2 adds ``journal.head`` ({seq, hash}: the head the snapshot witnesses, also when no
record was exported), always fills ``host.machine_id`` and carries ``rotations.json``. Version 1
still verifies, with a warning that it proves less.
"""

FORMAT = "bmnn-snapshot"
VERSION = 2
READABLE_VERSIONS = (1, 2)
SUFFIX = ".bmnnsnap"
"""What ``export`` names a snapshot; ``report fleet`` reads every file whatever its name."""
