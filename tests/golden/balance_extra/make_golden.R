# Golden numbers for balance tables and effect estimates, from R's MatchIt and sandwich.
#
# Run from the repository root:  Rscript tests/golden/balance_extra/make_golden.R
# Written with MatchIt 4.5.1 (Debian), sandwich 3.0, Matching 4.10. MatchIt 4.5.1 has a bug on
# propensity-score vectors (issue #163), so every matching here passes the matrix of absolute
# score differences as `distance` with m.order = "data" after sorting the rows by descending
# score (MatchIt's default order "largest"). The score itself is put back on the object as
# `m$distance` so that summary() reports the "distance" row as it does for distance = "glm".
# Outputs (CSV, full precision) are written next to this script; the Python tests read them
# and never need R.
suppressMessages({library(MatchIt); library(sandwich)})
have_matching <- suppressWarnings(requireNamespace("Matching", quietly = TRUE))
out_dir <- "tests/golden/balance_extra"
wcsv <- function(x, name) {
  write.csv(x, file.path(out_dir, name), row.names = FALSE, na = "")
}
fmt <- function(x) ifelse(is.na(x), NA, trimws(formatC(x, digits = 17, format = "g")))

run_matching <- function(data, formula, ratio = 1, replace = FALSE, caliper = NULL,
                         exact = NULL) {
  ps <- fitted(glm(formula, data = data, family = binomial()))
  ord <- order(-ps, seq_along(ps))
  d <- data[ord, ]
  p <- ps[ord]
  tr <- d$treat == 1
  D <- abs(outer(p[tr], p[!tr], "-"))
  args <- list(formula, data = d, method = "nearest", distance = D, ratio = ratio,
               replace = replace, m.order = "data")
  if (!is.null(caliper)) { args$caliper <- caliper; args$std.caliper <- FALSE }
  if (!is.null(exact)) args$exact <- exact
  m <- do.call(matchit, args)
  m$distance <- setNames(p, rownames(d))
  list(m = m, d = d, orig = ord)
}

export <- function(name, res, covs, outcome) {
  m <- res$m; d <- res$d; orig <- res$orig - 1L   # 0-based row in the original data
  sub <- if (is.null(m$subclass)) rep(NA, nrow(d)) else as.integer(m$subclass) - 1L
  units <- data.frame(row = orig, treat = d$treat, distance = fmt(m$distance),
                      weights = fmt(m$weights), subclass = ifelse(is.na(sub), -1L, sub),
                      discarded = as.integer(m$discarded))
  units <- units[order(units$row), ]
  wcsv(units, paste0(name, "_units.csv"))
  mm <- m$match.matrix
  pos <- match(rownames(mm), rownames(d))
  mmat <- matrix(-1L, nrow(mm), ncol(mm))
  for (j in seq_len(ncol(mm))) {
    k <- match(mm[, j], rownames(d))
    mmat[, j] <- ifelse(is.na(k), -1L, orig[k])
  }
  mm_df <- data.frame(treated_row = orig[pos], mmat)
  wcsv(mm_df[order(mm_df$treated_row), ], paste0(name, "_match_matrix.csv"))
  s <- summary(m, un = TRUE)
  for (part in c("sum.all", "sum.matched")) {
    tab <- s[[part]]
    df <- data.frame(term = rownames(tab), apply(tab, 2, fmt), check.names = FALSE)
    wcsv(df, paste0(name, "_", sub(".", "_", part, fixed = TRUE), ".csv"))
  }
  nn <- s$nn
  wcsv(data.frame(row = rownames(nn), Control = fmt(nn[, 1]), Treated = fmt(nn[, 2])),
       paste0(name, "_nn.csv"))
  # other SD denominators through MatchIt's own bal1var
  X <- MatchIt:::get.covs.matrix(data = m$X)
  rows <- list()
  for (den in c("control", "pooled")) for (j in seq_len(ncol(X))) {
    b0 <- MatchIt:::bal1var(X[, j], tt = m$treat, ww = NULL, s.weights = rep(1, nrow(X)),
                            standardize = TRUE, s.d.denom = den)
    b1 <- MatchIt:::bal1var(X[, j], tt = m$treat, ww = m$weights, s.weights = rep(1, nrow(X)),
                            subclass = m$subclass, mm = m$match.matrix, standardize = TRUE,
                            s.d.denom = den)
    rows[[length(rows) + 1]] <- data.frame(s_d_denom = den, term = colnames(X)[j],
                                          smd_all = fmt(b0[3]), smd_matched = fmt(b1[3]))
  }
  wcsv(do.call(rbind, rows), paste0(name, "_smd_denoms.csv"))
  export_effects(name, m, d, covs, outcome)
}

export_effects <- function(name, m, d, covs, outcome) {
  md <- match.data(m, drop.unmatched = TRUE)
  if (is.null(m$subclass)) md$subclass <- seq_len(nrow(md))
  rows <- list()
  add <- function(what, est, se) {
    rows[[length(rows) + 1]] <<- data.frame(quantity = what, estimate = fmt(est),
                                            std_error = fmt(se))
  }
  f_adj <- reformulate(c("treat", covs), response = outcome)
  f_raw <- reformulate("treat", response = outcome)
  for (spec in list(list("adjusted", f_adj), list("difference", f_raw))) {
    fit <- lm(spec[[2]], data = md, weights = weights)
    add(paste0(spec[[1]], "_cr1"), coef(fit)["treat"],
        sqrt(vcovCL(fit, cluster = ~subclass)["treat", "treat"]))
    add(paste0(spec[[1]], "_hc1"), coef(fit)["treat"],
        sqrt(vcovHC(fit, type = "HC1")["treat", "treat"]))
  }
  # binary outcome: positive earnings; cell means and their CR1 covariance
  md$y_bin <- as.numeric(md[[outcome]] > 0)
  md$ctrl <- 1 - md$treat
  fit <- lm(y_bin ~ 0 + treat + ctrl, data = md, weights = weights)
  V <- vcovCL(fit, cluster = ~subclass)
  p1 <- coef(fit)[["treat"]]; p0 <- coef(fit)[["ctrl"]]
  g_rd <- c(1, -1); g_rr <- c(1 / p1, -1 / p0)
  g_or <- c(1 / (p1 * (1 - p1)), -1 / (p0 * (1 - p0)))
  add("binary_p1", p1, sqrt(V[1, 1])); add("binary_p0", p0, sqrt(V[2, 2]))
  add("binary_rd", p1 - p0, sqrt(drop(t(g_rd) %*% V %*% g_rd)))
  add("binary_log_rr", log(p1 / p0), sqrt(drop(t(g_rr) %*% V %*% g_rr)))
  add("binary_log_or", qlogis(p1) - qlogis(p0), sqrt(drop(t(g_or) %*% V %*% g_or)))
  wcsv(do.call(rbind, rows), paste0(name, "_effects.csv"))
}

# --- lalonde -------------------------------------------------------------------------------
data("lalonde", package = "MatchIt")
wcsv(lalonde, "lalonde.csv")
covs <- c("age", "educ", "race", "married", "nodegree", "re74", "re75")
f <- reformulate(covs, response = "treat")
export("lalonde_nn1", run_matching(lalonde, f), covs, "re78")
export("lalonde_nn2_replace", run_matching(lalonde, f, ratio = 2, replace = TRUE), covs, "re78")
export("lalonde_nn1_caliper", run_matching(lalonde, f, caliper = 0.05), covs, "re78")
export("lalonde_nn3_exact", run_matching(lalonde, f, ratio = 3, exact = ~married), covs, "re78")

# --- a synthetic design with a character factor, a constant and a logical-like column ------
set.seed(20261124)
n <- 400
syn <- data.frame(
  x1 = rnorm(n), x2 = rexp(n), grp = sample(c("b", "a", "c", "d"), n, replace = TRUE),
  flag = rbinom(n, 1, 0.3), const = 5, small = round(runif(n) * 4)
)
lin <- -1 + 0.6 * syn$x1 + 0.4 * (syn$grp == "c") + 0.5 * syn$flag
syn$treat <- rbinom(n, 1, plogis(lin))
syn$y <- 1 + syn$x1 + 0.5 * syn$treat + rnorm(n)
wcsv(syn, "synthetic.csv")
scovs <- c("x1", "x2", "grp", "flag", "const", "small")
fs <- treat ~ x1 + x2 + grp + flag + small
res <- run_matching(syn, fs, ratio = 2)
res$m$X <- syn[res$orig, scovs]
export("synthetic_nn2", res, setdiff(scovs, "const"), "y")

# --- Abadie-Imbens standard errors from the Matching package ------------------------------
# On the synthetic data (continuous scores, no ties); ties = TRUE with distance.tolerance = 0
# so that Match neither breaks ties at random nor treats near values as ties.
if (have_matching) {
  rows <- list()
  ps <- fitted(glm(fs, data = syn, family = binomial()))
  wcsv(data.frame(row = seq_along(ps) - 1L, ps = fmt(ps)), "synthetic_ps.csv")
  for (M in c(1, 2)) for (J in c(1, 2)) {
    r <- Matching::Match(Y = syn$y, Tr = syn$treat, X = ps, estimand = "ATT", M = M,
                         replace = TRUE, ties = TRUE, Var.calc = J, distance.tolerance = 0)
    rows[[length(rows) + 1]] <- data.frame(M = M, J = J, estimate = fmt(r$est),
                                           se_ai = fmt(r$se), se_standard = fmt(r$se.standard))
    mm <- data.frame(treated_row = r$index.treated - 1L, control_row = r$index.control - 1L,
                     weight = fmt(r$weights))
    wcsv(mm, sprintf("synthetic_match_M%d_J%d_pairs.csv", M, J))
  }
  wcsv(do.call(rbind, rows), "synthetic_abadie_imbens.csv")
}
cat("golden files written to", out_dir, "\n")
