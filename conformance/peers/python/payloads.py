'''
Payloads the recorded scenarios send (`scenarios.py`, `legacy_scenarios.py`):
scalars at every msgpack encoding boundary. Imported inside the scenario
functions, by the root only (a subactor loads its main module by path, and
this folder is not on its sys.path).
'''
SCALARS = (
    [None, True, False]
    + [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1,
       -1, -32, -33, -128, -129, -32768, -32769, -2**31, -2**31 - 1, -2**63]
    + [0.0, -0.0, 1.5, -2.25, 3.141592653589793, 1e308, 5e-324, 1e-7,
       float('inf'), float('-inf'), float('nan')]
    + ['', 'a', 'x' * 31, 'x' * 32, 'y' * 255, 'y' * 256, 'z' * 65535, 'z' * 65536,
       'héllo wörld', '日本語テキスト', '🦀🐍 emoji', 'nul\x00inside', 'line1\nline2\ttab']
    + [b'', b'\x00\x01\x02\xff', b'\xab' * 255, b'\xcd' * 256, b'\xef' * 65536]
)
