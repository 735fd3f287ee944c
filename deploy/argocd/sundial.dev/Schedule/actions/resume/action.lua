-- Resume: unpause the spec and ask the operator to clear an automatic pause
-- (annotation sundial.dev/resume-requested, a fresh token), as `sundial resume NAME` does.
if obj.spec == nil then obj.spec = {} end
obj.spec.paused = false
obj.spec.pauseReason = ""
if obj.metadata.annotations == nil then obj.metadata.annotations = {} end
obj.metadata.annotations["sundial.dev/resume-requested"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
