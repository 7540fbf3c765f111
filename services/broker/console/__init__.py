"""The console (首席数据官工作台): server-rendered pages where people do their work."""
