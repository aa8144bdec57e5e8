# Golden coefficients of the propensity model for tests/engines/test_scale.py (distributed IRLS).
# Needs only base R (stats::glm). Run from this folder: Rscript glm.R
data <- read.csv("logit_data.csv")
fit <- glm(treat ~ age + male + months + dublin, family = binomial(), data = data,
           control = glm.control(epsilon = 1e-14, maxit = 100))
write.csv(data.frame(term = names(coef(fit)), estimate = sprintf("%.17g", coef(fit))),
          "logit_coefficients.csv", row.names = FALSE, quote = FALSE)
