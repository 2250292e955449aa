"""Member profile tags (用户画像) and segments: the Django side of ``o2o.core.profile``."""
