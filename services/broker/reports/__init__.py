"""Reports for the provincial data bureau: the evidence its CDO evaluation (评价) rests on."""
