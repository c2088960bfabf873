"""judgement stage."""
