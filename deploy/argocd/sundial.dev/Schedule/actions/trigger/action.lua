-- Trigger: one run now (annotation sundial.dev/trigger-requested, a fresh token),
-- as `sundial trigger NAME` does; the operator records the outcome in status.requests.
if obj.metadata.annotations == nil then obj.metadata.annotations = {} end
obj.metadata.annotations["sundial.dev/trigger-requested"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
