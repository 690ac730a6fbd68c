model_component::model_component!(risk_models::Kfre);
