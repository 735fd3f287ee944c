-- Argo CD resource actions of a Schedule: pause, resume, trigger (as `sundial pause|resume|trigger`).
local actions = {}
local userPaused = obj.spec ~= nil and obj.spec.paused == true
local autoPaused = false
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Paused" and c.status == "True" and c.reason ~= "UserRequested" then
      autoPaused = true
    end
  end
end
actions["pause"] = {["disabled"] = userPaused}
actions["resume"] = {["disabled"] = not (userPaused or autoPaused)}
actions["trigger"] = {["disabled"] = userPaused or autoPaused}
return actions
