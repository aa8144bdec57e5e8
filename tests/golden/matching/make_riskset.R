# Golden file for tiltak's risk-set matching, produced with MatchIt's `unit.id`.
#
# Run from this folder:  Rscript make_riskset.R   (writes riskset.csv, riskset.json)
# Person-periods at risk: each person from an entry period until enrolment (inclusive) or
# period 8. The propensity score is a glm on all person-periods; matching is exact on the
# period, nearest on the score (largest first, across periods), a control person is used
# once over all periods (unit.id). Distance-matrix path, as in make_golden.R.
# The enrolment row of a person gets a unit id of its own: in tiltak a person who enrols
# later may still be a control in an earlier period and is still matched when enrolling
# (MatchIt's unit.id would also block the treated row of a person already used as a control).
suppressPackageStartupMessages({library(MatchIt); library(jsonlite)})
set.seed(404)
rows <- list()
for (i in 1:500) {
  age0 <- sample(18:60, 1); entry <- sample(1:4, 1); sex <- sample(c("male", "female"), 1, prob = c(.75, .25))
  for (t in entry:8) {
    x <- round(rnorm(1), 6)
    p <- plogis(-2.6 + 0.03 * (age0 - 30) + 0.6 * x + 0.4 * (sex == "female"))
    e <- rbinom(1, 1, p)
    rows[[length(rows) + 1]] <- data.frame(person_id = sprintf("p%03d", i), period = sprintf("2024-%02d", t),
                                           age = age0, x = x, sex = sex, enrolled = e)
    if (e == 1) break
  }
}
d <- do.call(rbind, rows)
write.csv(d, "riskset.csv", row.names = FALSE)
fit <- glm(enrolled ~ age + x + sex, data = d, family = binomial)
d$ps <- unname(fitted(fit))
d$treat <- d$enrolled
d$unit <- ifelse(d$treat == 1, paste0(d$person_id, "-enrolment"), d$person_id)
run <- function(caliper_sd, ratio) {
  t_rows <- which(d$treat == 1)
  t_rows <- t_rows[order(d$ps[t_rows], decreasing = TRUE)]
  rows <- c(t_rows, which(d$treat == 0))
  d2 <- d[rows, ]
  D <- abs(outer(d$ps[t_rows], d$ps[d$treat == 0], "-"))
  m <- suppressWarnings(matchit(treat ~ age + x + sex, data = d2, distance = D, m.order = "data",
               exact = ~period, unit.id = ~unit, ratio = ratio,
               caliper = caliper_sd * sd(d$ps), std.caliper = FALSE))
  mm <- m$match.matrix
  mm_rows <- matrix(rows[match(mm, rownames(d2))], nrow = nrow(mm))
  t_orig <- rows[match(rownames(mm), rownames(d2))]
  o <- order(t_orig)
  mm_rows[is.na(mm_rows)] <- 0L
  w <- numeric(nrow(d)); w[rows] <- m$weights
  list(caliper = caliper_sd, ratio = ratio, treated_rows = t_orig[o], match_matrix = mm_rows[o, , drop = FALSE], weights = w)
}
out <- list(ps = d$ps, results = list(run(0.2, 1), run(0.5, 2)))
writeLines(toJSON(out, digits = I(17), auto_unbox = TRUE), "riskset.json")
