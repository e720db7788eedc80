"""GHL Real Estate AI: the domain package shared by every Lambda function (shipped as a layer)."""
