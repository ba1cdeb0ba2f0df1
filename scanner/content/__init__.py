"""Document content scan: read the Vietnamese secrecy stamp (MẬT, TỐI MẬT, TUYỆT MẬT) in every
format and encoding met in practice, without ever storing or sending the text.

Entry points: ``scan.scan_paths`` (facts for BMNN-DOC-001), ``detect.judge`` (pure),
``command.content_command`` (the click command). Nothing here imports rich at module level.
"""
