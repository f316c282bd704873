"""The team lead's desk: scope, dashboard figures and their nightly job, drill-downs, reassignment, plan decisions."""
