"""The hash chain of the audit log: sealing (`seal`), verifying (`verify`) and inclusion proofs (`proof`)."""
