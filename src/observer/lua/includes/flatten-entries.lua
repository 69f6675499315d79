--[[
  flatten(entries): stream entries, as XREADGROUP and XAUTOCLAIM return them,
  as a flat { id, session, id, session, ... } list ('' for an entry that names
  no session). Redis < 7 reports a deleted entry as nil; it is left out.
]]
local function flatten(entries)
  local out = {}
  for _, entry in ipairs(entries) do
    if type(entry) == 'table' then
      local session = ''
      local fields = entry[2]
      if type(fields) == 'table' then
        for i = 1, #fields, 2 do
          if fields[i] == 'session' then session = fields[i + 1] end
        end
      end
      out[#out + 1] = entry[1]
      out[#out + 1] = session
    end
  end
  return out
end
