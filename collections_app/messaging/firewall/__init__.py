"""The content firewall: what a collection message must not say to its audience.

Pure modules (no database, no settings) so the same rule runs when a template is saved, when a family-contact
request is filed and at send time, and can be tested and benchmarked on its own. `lint.lint_message` is the
entry point; `modes` holds the firewall modes (one per jurisdiction) a policy profile names; `categories`
names what it reports.

Offsets are 0-based code points into the text as given, end excluded. Matching runs on a folded copy
(`fold`: NFKC, format characters such as zero-width spaces dropped, look-alike letters and the digits of every
script folded to ASCII, lower case), made one code point at a time so that a span found in the folded copy
maps back to the code points of the original it came from.

Speed comes from the shape of the patterns, not from caching messages: no IGNORECASE (case is folded
first), Chinese and English patterns kept apart and run only when the text has that script, alternatives
that start with a literal so the regex engine can skip ahead (`patterns`), and the libraries (cn2an,
python-stdnum, phonenumbers) handed only the few candidate spans the cheap patterns found (`numerals`,
`identifiers`, `amounts`).
"""
