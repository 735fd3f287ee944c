-- Argo CD health of a sundial.dev Schedule (Lua 5.1, as Argo CD's gopher-lua runs it).
-- Progressing: not observed yet, being deleted, a spec change being applied.
-- Degraded: Stalled (invalid spec, quota), an automatic pause, a run overdue.
-- Suspended: paused by the user. Healthy: Ready=True.
local hs = {}

local function find(conditions, kind)
  if conditions == nil then return nil end
  for _, c in ipairs(conditions) do
    if c.type == kind then return c end
  end
  return nil
end

local function says(c, default)
  if c ~= nil and c.message ~= nil and c.message ~= "" then return c.message end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then return c.reason end
  return default
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Deleting: the Temporal schedule is removed first"
  return hs
end

local status = obj.status
local generation = obj.metadata and obj.metadata.generation
if status == nil or status.observedGeneration == nil or
   (generation ~= nil and status.observedGeneration ~= generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local conditions = status.conditions
local stalled = find(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = says(stalled, "Stalled")
  return hs
end

local paused = find(conditions, "Paused")
if paused ~= nil and paused.status == "True" then
  if paused.reason == "UserRequested" then
    hs.status = "Suspended"
    hs.message = says(paused, "Paused by the user")
  else
    hs.status = "Degraded"
    hs.message = "Paused automatically (" .. tostring(paused.reason) .. "): " .. says(paused, "")
  end
  return hs
end

local firing = find(conditions, "Firing")
if firing ~= nil and firing.status == "False" and firing.reason == "Overdue" then
  hs.status = "Degraded"
  hs.message = says(firing, "Overdue")
  return hs
end

local reconciling = find(conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = says(reconciling, "Reconciling")
  return hs
end

local ready = find(conditions, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = says(ready, "Ready")
  return hs
end

hs.status = "Progressing"
hs.message = says(ready, "Waiting for Ready")
return hs
