"""The inspector's snapshot: one signed file with the scan, the journal excerpt and the config.

Format (a plain POSIX tar, so that ``tar tvf`` shows it on any machine)::

    manifest.json        canonical JSON: host, tool, policy, time, journal range, member hashes
    manifest.sig         raw 64-byte Ed25519 signature of manifest.json by the host key
    host.pub             the host public key (PEM); pin it with --pubkey
    cosign.json          optional: an inspector's co-signature (name, fingerprint, validity, signature)
    scan.json scan.html  the scan document and the printable record
    journal.ndjson       journal records since the previous snapshot, one JSON object per line
    journal-verify.json  the full journal's verification on the host at export time
    devices.yaml         the approved-device registry
    tailoring/*.yaml     local tailoring in force
"""

FORMAT = "bmnn-snapshot"
VERSION = 1
