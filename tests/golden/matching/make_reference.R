# Reference outputs of MatchIt's summary() (balance) and the weighted outcome regression
# (effects) on matched samples, for tiltak's balance and effect tests.
#
# Run from this folder after make_golden.R:  Rscript make_reference.R
# Writes ../balance/<case>_*.csv and ../effects/<case>_*.csv|json.
# Matching uses the distance-matrix path (see make_golden.R for why); the propensity score
# is added to the balance tables as the variable `ps` (MatchIt's "distance" row).
suppressPackageStartupMessages({library(MatchIt); library(jsonlite); library(sandwich); library(lmtest)})
options(digits = 17)

nn_match <- function(formula, data, ratio = 1, replace = FALSE, caliper = NULL, exact = NULL) {
  fit <- glm(formula, data = data, family = binomial)
  data$ps <- unname(fitted(fit))
  t_rows <- which(data$treat == 1)
  t_rows <- t_rows[order(data$ps[t_rows], decreasing = TRUE)]
  rows <- c(t_rows, which(data$treat == 0))
  d2 <- data[rows, ]
  D <- abs(outer(data$ps[t_rows], data$ps[data$treat == 0], "-"))
  args <- list(formula, data = d2, distance = D, m.order = "data", ratio = ratio,
               replace = replace, exact = exact)
  if (!is.null(caliper)) { args$caliper <- caliper * sd(data$ps); args$std.caliper <- FALSE }
  list(m = do.call(matchit, args), d2 = d2)
}

write_balance <- function(case, r) {
  m <- r$m
  s <- summary(m, un = TRUE, addlvariables = ~ps, data = r$d2)
  tab <- function(x) data.frame(term = rownames(x), x, check.names = FALSE, row.names = NULL)
  write.csv(tab(s$sum.all), file.path("..", "balance", paste0(case, "_before.csv")), row.names = FALSE)
  write.csv(tab(s$sum.matched), file.path("..", "balance", paste0(case, "_after.csv")), row.names = FALSE)
  nn <- data.frame(row = rownames(s$nn), s$nn, check.names = FALSE, row.names = NULL)
  write.csv(nn, file.path("..", "balance", paste0(case, "_sample_sizes.csv")), row.names = FALSE)
}

write_effects <- function(case, m, outcome_formula, outcome, replace) {
  md <- if (replace) get_matches(m, id = "match_id") else match.data(m)
  fit <- lm(outcome_formula, data = md, weights = weights)
  vc <- if (replace) vcovCL(fit, cluster = md[, c("subclass", "match_id")]) else vcovCL(fit, cluster = md$subclass)
  ct <- coeftest(fit, vcov. = vc)
  dm <- lm(reformulate("treat", outcome), data = md, weights = weights)
  vdm <- if (replace) vcovCL(dm, cluster = md[, c("subclass", "match_id")]) else vcovCL(dm, cluster = md$subclass)
  out <- list(
    case = case, outcome = outcome, formula = deparse(outcome_formula),
    se_type = if (replace) "vcovCL(cluster = ~subclass + match_id), HC1, on get_matches()" else "vcovCL(cluster = ~subclass), HC1",
    coef = as.list(coef(fit)), se_cluster = as.list(sqrt(diag(vc))), se_ols = as.list(sqrt(diag(vcov(fit)))),
    att_regression = unname(coef(fit)["treat"]), se_regression = unname(ct["treat", 2]),
    att_difference = unname(coef(dm)["treat"]), se_difference = unname(sqrt(vdm["treat", "treat"])),
    n_used = nrow(md))
  writeLines(toJSON(out, digits = I(17), auto_unbox = TRUE, pretty = TRUE),
             file.path("..", "effects", paste0(case, ".json")))
  keep <- intersect(c("id", "match_id", "treat", outcome, "ps", "weights", "subclass"), names(md))
  write.csv(md[, keep], file.path("..", "effects", paste0(case, "_matched.csv")), row.names = FALSE)
}

data("lalonde", package = "MatchIt")
lal <- data.frame(id = rownames(lalonde), lalonde, stringsAsFactors = FALSE)
lal$race <- as.character(lal$race)
fl <- treat ~ age + educ + race + married + nodegree + re74 + re75
write.csv(lal, file.path("..", "balance", "lalonde.csv"), row.names = FALSE)
write.csv(lal, file.path("..", "effects", "lalonde.csv"), row.names = FALSE)

# 1. The getting-started vignette: 1:1 nearest neighbour on the glm score, no replacement.
r <- nn_match(fl, lal)
md <- match.data(r$m)
ctrl <- md[md$treat == 0, ]
cat(sprintf("vignette check: matched control age %.4f, educ %.4f\n", mean(ctrl$age), mean(ctrl$educ)))
write_balance("lalonde_nn1", r)
write_effects("lalonde_nn1", r$m,
              re78 ~ treat + age + educ + race + married + nodegree + re74 + re75, "re78", FALSE)

# 2. 2:1 with replacement.
r2 <- nn_match(fl, lal, ratio = 2, replace = TRUE)
write_balance("lalonde_nn2_replace", r2)
write_effects("lalonde_nn2_replace", r2$m,
              re78 ~ treat + age + educ + race + married + nodegree + re74 + re75, "re78", TRUE)

# 3. Simulated data: 3:1 with a 0.5 SD caliper and exact matching on g.
sim <- read.csv("sim_c.csv", stringsAsFactors = FALSE)
sim$id <- as.character(seq_len(nrow(sim)))
write.csv(sim, file.path("..", "balance", "sim_c.csv"), row.names = FALSE)
write.csv(sim, file.path("..", "effects", "sim_c.csv"), row.names = FALSE)
r3 <- nn_match(treat ~ x1 + x2 + x3 + f + g, sim, ratio = 3, caliper = 0.5, exact = ~g)
write_balance("sim_c_nn3_caliper_exact", r3)
write_effects("sim_c_nn3_caliper_exact", r3$m, y ~ treat + x1 + x2 + x3 + f + g, "y", FALSE)
