-- Argo CD health of kco.dev Connectors and KafkaConnects, read from their kstatus conditions.
-- One script for both kinds: argocd-cm keys resource.customizations.health.kco.dev_Connector and
-- resource.customizations.health.kco.dev_KafkaConnect (docs/operating.md, "Argo CD").
--
-- First match wins:
--   no status, or status.observedGeneration missing or < metadata.generation -> Progressing
--   Stalled=True                                                          -> Degraded
--   Reconciling=True (no Reconciling condition: Progressing=True)         -> Progressing
--   Ready=True, a Connector whose status.state is PAUSED or STOPPED       -> Suspended
--   Ready=True                                                            -> Healthy
--   Degraded=True (and Ready is not True)                                 -> Degraded
--   otherwise (Ready False, Unknown or absent)                            -> Progressing
-- A Degraded=True is named in the message of the last three, after Ready's.
--
-- Argo CD runs it in gopher-lua (Lua 5.1) with only the base and table libraries: no string, no math.
-- Every field may be missing (nil): older statuses have no Reconciling or Stalled, new objects no status.

local function number(value)
  if value == nil then
    return nil
  end
  return tonumber(value)
end

local function text(value)
  if value == nil then
    return ""
  end
  return tostring(value)
end

local function condition(status, wanted)
  if type(status.conditions) ~= "table" then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if type(c) == "table" and c.type == wanted then
      return c
    end
  end
  return nil
end

local function is_true(c)
  return c ~= nil and c.status == "True"
end

-- "Reason: message", or whichever of the two the condition has.
local function describe(c, otherwise)
  local reason, message = text(c.reason), text(c.message)
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  end
  if message ~= "" then
    return message
  end
  if reason ~= "" then
    return reason
  end
  return otherwise
end

local function health(obj)
  local metadata = obj.metadata
  if type(metadata) ~= "table" then
    metadata = {}
  end
  local generation = number(metadata.generation)
  local status = obj.status
  local waiting = "waiting for the operator to write a status"
  if generation ~= nil then
    waiting = "waiting for the operator to observe generation " .. text(generation)
  end
  if type(status) ~= "table" then
    return "Progressing", waiting
  end
  local observed = number(status.observedGeneration)
  if generation ~= nil and (observed == nil or observed < generation) then
    return "Progressing", waiting
  end

  local stalled = condition(status, "Stalled")
  if is_true(stalled) then
    return "Degraded", describe(stalled, "Stalled")
  end
  local reconciling = condition(status, "Reconciling")
  if reconciling == nil then
    reconciling = condition(status, "Progressing")
  end
  if is_true(reconciling) then
    return "Progressing", describe(reconciling, "Reconciling")
  end

  local ready = condition(status, "Ready")
  local message = "waiting for the operator to report Ready"
  if is_true(ready) then
    message = text(ready.message)
    if obj.kind == "Connector" and (status.state == "PAUSED" or status.state == "STOPPED") then
      return "Suspended", message
    end
  elseif ready ~= nil then
    message = describe(ready, "Ready=" .. text(ready.status))
  end
  local degraded = condition(status, "Degraded")
  if is_true(degraded) then
    local also = "Degraded"
    local why = describe(degraded, "")
    if why ~= "" then
      also = also .. " " .. why
    end
    if message == "" then
      message = also
    else
      message = message .. " (" .. also .. ")"
    end
  end
  if is_true(ready) then
    return "Healthy", message
  end
  if is_true(degraded) then
    return "Degraded", message
  end
  return "Progressing", message
end

local hs = {}
hs.status, hs.message = health(obj or {})
return hs
