-- Resume: unpause the spec and ask the operator to clear an automatic pause (annotation
-- sundial.dev/resume-requested, a fresh token, with a reason), as `sundial resume NAME` does;
-- an action is one write, so the spec is unpaused in the same patch instead of after the ack.
if obj.spec == nil then obj.spec = {} end
obj.spec.paused = false
obj.spec.pauseReason = ""
if obj.metadata.annotations == nil then obj.metadata.annotations = {} end
obj.metadata.annotations["sundial.dev/resume-requested"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
obj.metadata.annotations["sundial.dev/resume-reason"] = "resumed from Argo CD"
return obj
