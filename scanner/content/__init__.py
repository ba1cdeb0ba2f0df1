"""Document content scan: read the Vietnamese secrecy stamp (MẬT, TỐI MẬT, TUYỆT MẬT) in every
format and encoding met in practice, without ever storing or sending the text.

Entry points: ``scan.scan_paths`` (facts for BMNN-DOC-001), ``detect.judge`` (pure),
``command.content_command`` (the click command). Nothing here imports rich at module level.
"""

DETECTOR_VERSION = 3
"""Bump on any change to what a file's result can be (extractors, detector, selection): the
verdict cache (``cache.py``) keeps results only for the version that made them. 3: stamps read
by OCR in images, image-only PDF pages and office pictures (``ocr.VERSION`` 1, the double_border reason)."""
