-- Pause: spec.paused=true with a note, exactly what `sundial pause NAME --reason R` writes.
-- With automated sync and selfHeal, Git wins again unless Git says paused too.
if obj.spec == nil then obj.spec = {} end
obj.spec.paused = true
obj.spec.pauseReason = "paused from Argo CD"
return obj
