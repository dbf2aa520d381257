library(testthat)
library(transforEmotionBridge)

test_check("transforEmotionBridge")
