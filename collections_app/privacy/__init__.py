"""Data-subject requests (PIPL arts. 44-47): the pages under /privacy/requests/, the correctable fields, the
person's access file and the hand-over of corrections to the core lending system.

The model lives in `collections_app.models.privacy`, its writes in `collections_app.services.privacy`, its
scoped reads in `collections_app.selectors.privacy`, as the complaint register's do.
"""
